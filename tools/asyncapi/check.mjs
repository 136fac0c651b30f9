// Validates AsyncAPI documents with the AsyncAPI project's parser: `node check.mjs FILE...`.
// Prints one JSON line per diagnostic ({file, severity, code, message, path}; severity 0 is an
// error) and exits 1 when any document has an error. One process for all: Node starts once.
import { readFile } from "node:fs/promises";
import { Parser, DiagnosticSeverity } from "@asyncapi/parser";

const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const diagnostics = await parser.validate(await readFile(file, "utf8"));
  for (const { severity, code, message, path } of diagnostics) {
    console.log(JSON.stringify({ file, severity, code, message, path }));
    failed ||= severity === DiagnosticSeverity.Error;
  }
}
process.exit(failed ? 1 : 0);
