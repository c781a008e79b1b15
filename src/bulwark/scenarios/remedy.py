"""The demo protocol's side of a parameter-remedy search: its components and their sources,
the metric probes read on each fork (prices, liquidity, utilisation, users' health and balances),
readable function names, and the forward simulation (benign traffic on a fork).

:func:`demo_remedy_request` assembles them into the :class:`RemedyRequest` the remedy engine
takes; nothing here searches or verifies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bulwark.chain import ChainClient
from bulwark.chain.abi import selector
from bulwark.domain import Address
from bulwark.domain.remedy import ComponentSource, Forward, MetricKind, Probe, RemedyRequest, TxRun
from bulwark.scenarios.benign import BenignTraffic
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.protocol import DemoProtocol
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler

__all__ = ["demo_components", "demo_forward", "demo_names", "demo_probes", "demo_remedy_request"]

_CONTRACTS = {
    "oracle": "PriceOracle",
    "pool": "ConstantProductPool",
    "lending": "LendingMarket",
    "vault": "DemoVault",
    "flash": "FlashLender",
}


def demo_components(protocol: DemoProtocol, scenario: Scenario | None = None) -> dict[str, ComponentSource]:
    """Every component of the demo protocol with its live source (the scenario's vulnerable one
    for the scenario's component)."""
    root = project_root()
    out = {}
    for name, comp in protocol.components.items():
        if scenario is not None and name == scenario.component and not scenario.extra_component:
            out[name] = ComponentSource(
                Address(comp.proxy), scenario.vulnerable.source, scenario.vulnerable.contract
            )
        elif name in _CONTRACTS:
            out[name] = ComponentSource(
                Address(comp.proxy),
                root / "contracts" / "protocol" / f"{_CONTRACTS[name]}.sol",
                _CONTRACTS[name],
            )
    return out


def demo_probes(protocol: DemoProtocol) -> tuple[Probe, ...]:
    """Prices, liquidity, utilisation, health factors and the demo users' balances."""
    c = {name: Address(comp.proxy) for name, comp in protocol.components.items()}
    weth, usd = protocol.address("weth"), protocol.address("usd")
    supplied = Probe(MetricKind.UTILISATION, "lending.totalSupplied", c["lending"], "totalSupplied")
    probes = [
        Probe(MetricKind.PRICE, "oracle.price(weth)", c["oracle"], "price", ("address",), (weth,)),
        Probe(MetricKind.PRICE, "pool.spotPrice(weth)", c["pool"], "spotPrice", ("address",), (weth,)),
        Probe(MetricKind.LIQUIDITY, "lending.availableLiquidity", c["lending"], "availableLiquidity"),
        Probe(
            MetricKind.LIQUIDITY,
            "pool.reserve(weth)",
            c["pool"],
            "getReserves",
            (),
            (),
            ("uint256", "uint256"),
            0,
        ),
        Probe(
            MetricKind.LIQUIDITY,
            "pool.reserve(usd)",
            c["pool"],
            "getReserves",
            (),
            (),
            ("uint256", "uint256"),
            1,
        ),
        Probe(
            MetricKind.LIQUIDITY, "flash.maxFlashLoan(usd)", c["flash"], "maxFlashLoan", ("address",), (usd,)
        ),
        Probe(MetricKind.LIQUIDITY, "vault.totalAssets", c["vault"], "totalAssets"),
        Probe(
            MetricKind.UTILISATION, "lending.utilisation(bps)", c["lending"], "totalBorrowed", per=supplied
        ),
    ]
    for i, user in enumerate(protocol.users):
        who = Address(user.address)
        probes += [
            Probe(
                MetricKind.HEALTH,
                f"lending.healthFactor(user{i})",
                c["lending"],
                "healthFactor",
                ("address",),
                (who,),
            ),
            Probe(MetricKind.BALANCE, f"usd.balanceOf(user{i})", usd, "balanceOf", ("address",), (who,)),
            Probe(
                MetricKind.BALANCE, f"lending.debtOf(user{i})", c["lending"], "debtOf", ("address",), (who,)
            ),
        ]
    return tuple(probes)


def demo_names(protocol: DemoProtocol) -> dict[str, str]:
    """ "0x<proxy>:0x<selector>" -> "lending.borrow", so an impact report names what it blocks."""
    out: dict[str, str] = {}
    for name, comp in protocol.components.items():
        for entry in comp.abi:
            if entry.get("type") == "function":
                out[f"{comp.proxy.lower()}:0x{selector(entry).hex()}"] = f"{name}.{entry['name']}"
    return out


def demo_forward(
    protocol: DemoProtocol, compiler: Compiler, *, txs: int, exclude: Iterable[str] = ()
) -> Forward:
    """Benign traffic simulated on a fork (the same seed on both forks), as per-action runs."""

    async def forward(url: str) -> list[TxRun]:
        async with ChainClient(url, timeout_s=60.0) as client:
            await client.set_automine(True)
            traffic = BenignTraffic(client, protocol, compiler, seed=4242, users=4, exclude=exclude)
            report = await traffic.run(txs)
            await client.set_automine(False)
        runs: list[TxRun] = []
        for action, n in sorted(report.by_action.items()):
            failed = report.reverted_by_action.get(action, 0)
            runs += [TxRun(f"forward:{action}#{k}", "benign users", action, k >= failed) for k in range(n)]
        return runs

    return forward


def demo_remedy_request(
    protocol: DemoProtocol,
    scenario: Scenario,
    rpc_url: str,
    attack_txs: Sequence[str],
    compiler: Compiler,
    *,
    regress: int = 12,
    forward_txs: int = 12,
    max_tries: int = 4,
) -> RemedyRequest:
    return RemedyRequest(
        rpc_url=rpc_url,
        admin=Address(protocol.timelock.address),
        finding_class=scenario.vuln_class.value,
        attack_txs=tuple(attack_txs),
        components=demo_components(protocol, scenario),
        protected=tuple(Address(c.proxy) for c in protocol.components.values()),
        skip_senders=(Address(protocol.sentinel.address),),
        regress=regress,
        probes=demo_probes(protocol),
        forward=demo_forward(protocol, compiler, txs=forward_txs, exclude=scenario.benign_exclude)
        if forward_txs
        else None,
        max_tries=max_tries,
        names=demo_names(protocol),
        price_oracle=Address(protocol.component("oracle").proxy),
        assets=tuple(Address(t.address) for t in protocol.tokens.values()),
    )
