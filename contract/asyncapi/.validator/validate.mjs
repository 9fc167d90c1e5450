// Validates AsyncAPI documents with the official parser; prints one JSON report per file on stdout.
// Usage: node validate.mjs FILE...   Exit 0 always: the Python test reads the report and decides.
import { readFile } from "node:fs/promises";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
const reports = {};
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(await readFile(file, "utf8"));
  const messages = [];
  if (document) {
    for (const message of document.allMessages()) {
      const payload = message.payload();
      const headers = message.headers();
      messages.push({
        id: message.id(),
        payloadProperties: payload ? Object.keys(payload.properties() ?? {}) : [],
        headerProperties: headers ? Object.keys(headers.properties() ?? {}) : [],
        correlationId: message.correlationId()?.location() ?? null,
        examples: message.examples().length,
      });
    }
  }
  reports[file] = {
    parsed: Boolean(document),
    channels: document ? document.allChannels().all().map((channel) => channel.address()) : [],
    messages,
    diagnostics: diagnostics.map((d) => ({ severity: d.severity, code: d.code, message: d.message, path: d.path })),
  };
}
process.stdout.write(JSON.stringify(reports));
