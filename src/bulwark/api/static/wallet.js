// Approve or reject a proposal with a browser wallet (EIP-1193 window.ethereum, eth_signTypedData_v4).
// The server returns the exact EIP-712 documents to sign and checks every signature it gets back.
(function () {
  "use strict";
  const section = document.getElementById("decide");
  const result = document.getElementById("decision-result");
  if (!section || !result) return;
  const proposal = section.dataset.proposal;

  function show(text, ok) {
    result.textContent = text;
    result.className = ok ? "badge ok" : "badge bad";
  }

  async function decide(decision, buttons) {
    if (!window.ethereum || typeof window.ethereum.request !== "function") {
      show("No browser wallet found (window.ethereum).", false);
      return;
    }
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      const accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
      if (!accounts || !accounts.length) throw new Error("the wallet shared no account");
      const signer = accounts[0];
      const reason = decision === "reject" ? document.getElementById("reason").value : "";
      const query = new URLSearchParams({ decision: decision, reason: reason });
      const docs = await fetch("/api/proposals/" + encodeURIComponent(proposal) + "/signing?" + query, {
        headers: { Accept: "application/json" },
      });
      const plan = await docs.json();
      if (!docs.ok) throw new Error(plan.detail || "cannot prepare the signature");
      const signatures = [];
      for (const req of plan.requests) {
        signatures.push(await window.ethereum.request({
          method: "eth_signTypedData_v4",
          params: [signer, JSON.stringify(req.typed_data)],
        }));
      }
      const resp = await fetch("/api/proposals/" + encodeURIComponent(proposal) + "/" + decision, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ signer: signer, signatures: signatures, reason: reason }),
      });
      const body = await resp.json();
      if (!resp.ok) throw new Error(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
      show((decision === "approve" ? "Approved" : "Rejected") + " by " + body.signer +
           " · proposal now " + body.proposal.state + " (" + body.proposal.signed.length + " signed)", true);
      const count = document.getElementById("sig-count");
      if (count) count.textContent = body.proposal.signed.length + "/" + (body.proposal.threshold ?? "?");
    } catch (err) {
      show("Not recorded: " + (err && err.message ? err.message : String(err)), false);
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  }

  const buttons = Array.from(section.querySelectorAll("button[data-decision]"));
  buttons.forEach(function (b) {
    b.addEventListener("click", function () { decide(b.dataset.decision, buttons); });
  });
})();
