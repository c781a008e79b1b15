// Long-lived solcjs server: one process per solc version, driven by bulwark.toolchain.solc.
//
// Protocol: one JSON request per line on stdin, one JSON response per line on stdout.
//   {"id": 1, "op": "version"}
//     -> {"id": 1, "version": "0.8.26+commit.8a97fa7a.Emscripten.clang"}
//   {"id": 2, "op": "compile", "input": "<standard JSON>", "roots": ["/abs/base", "/abs/node_modules"]}
//     -> {"id": 2, "output": "<standard JSON output>", "imports": {"unit/name.sol": {"file": "/abs", "content": "..."}}}
// Errors: {"id": n, "error": "message"}.
// The process exits when stdin closes, so it never outlives the Python side that spawned it.
// The solcjs CLI truncates its output at 64 KiB on a pipe because it exits before stdout drains;
// this server never exits mid-write, and writes through the stream so large outputs are intact.
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");

const pkgDir = process.argv[2];
if (!pkgDir) {
  process.stderr.write("usage: node solc_server.js <solc package dir>\n");
  process.exit(2);
}

const solc = require(pkgDir);
const longVersion = solc.version();
// solcjs wrappers disagree on how the import callback is passed: 0.4.x and early 0.5.x want a
// bare function (compileStandardWrapper(input, fn)), later ones assert an object {import: fn}.
// Start with the object form and remember the first form the wrapper accepts.
let legacyCallback = /^0\.4\./.test(longVersion);

function compile(input, roots) {
  const imports = {};
  const findImports = (unitName) => {
    const candidates = path.isAbsolute(unitName) ? [unitName] : roots.map((r) => path.join(r, unitName));
    for (const file of candidates) {
      try {
        if (fs.statSync(file).isFile()) {
          const content = fs.readFileSync(file, "utf8");
          imports[unitName] = { file, content };
          return { contents: content };
        }
      } catch (e) {
        // not under this root; try the next one
      }
    }
    return { error: `File not found: ${unitName} (searched ${roots.join(", ")})` };
  };
  let output;
  if (!legacyCallback) {
    try {
      output = solc.compile(input, { import: findImports });
    } catch (e) {
      // The wrapper checks the callback's type before compiling, so retrying costs nothing.
      if (!/Invalid callback/.test(String(e && e.message))) throw e;
      legacyCallback = true;
    }
  }
  if (legacyCallback) {
    const fn = solc.compileStandardWrapper || solc.compile;
    output = fn(input, findImports);
  }
  return { output, imports };
}

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    reply({ id: null, error: `bad request: ${e.message}` });
    return;
  }
  try {
    if (req.op === "version") {
      reply({ id: req.id, version: longVersion });
    } else if (req.op === "compile") {
      const res = compile(req.input, req.roots || []);
      reply({ id: req.id, output: res.output, imports: res.imports });
    } else {
      reply({ id: req.id, error: `unknown op ${req.op}` });
    }
  } catch (e) {
    reply({ id: req.id, error: String((e && e.stack) || e) });
  }
});
rl.on("close", () => process.exit(0));
