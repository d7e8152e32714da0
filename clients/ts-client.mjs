#!/usr/bin/env node
// A minimal MCP client built on the official TypeScript SDK
// (@modelcontextprotocol/sdk), used by e2e/clients_test.go to prove that the
// servers work with a client we did not write.
//
// It connects to one server over streamable HTTP, lists the tools, calls the
// tools named on the command line and prints a JSON summary on stdout:
//
//	node ts-client.mjs --url http://127.0.0.1:7071/mcp \
//	    --call 'get_alerts={"state":"CA"}' --call get_forecast='{"latitude":39.7456,"longitude":-97.0892}'
//
// A tool that answers with isError: true is a result, not a failure. The exit
// status is 0 when every step worked, 1 on a protocol failure (connect,
// tools/list or tools/call failed, or a result did not match the tool's
// output schema, which the SDK checks) and 2 on bad usage.
//
// Options:
//
//	--url <url>          the server's MCP endpoint (required)
//	--call <tool>=<json> call a tool with these JSON object arguments; repeatable
//	--header 'Name: v'   an extra HTTP header on every request; repeatable
//	--timeout <ms>       bound for each request (default 30000)

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

function usage(message) {
  process.stderr.write(`ts-client: ${message}\nusage: node ts-client.mjs --url <url> [--call <tool>=<json>]... [--header 'Name: value']... [--timeout <ms>]\n`);
  process.exit(2);
}

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      url: { type: "string" },
      call: { type: "string", multiple: true, default: [] },
      header: { type: "string", multiple: true, default: [] },
      timeout: { type: "string", default: "30000" },
    },
    strict: true,
  }));
} catch (err) {
  usage(err.message);
}
if (!opts.url) usage("--url is required");
let url;
try {
  url = new URL(opts.url);
} catch {
  usage(`--url ${JSON.stringify(opts.url)} is not a URL`);
}
const timeout = Number(opts.timeout);
if (!Number.isInteger(timeout) || timeout <= 0) usage(`--timeout ${JSON.stringify(opts.timeout)} is not a positive number of milliseconds`);

const calls = opts.call.map((spec) => {
  const eq = spec.indexOf("=");
  const name = eq < 0 ? spec : spec.slice(0, eq);
  const json = eq < 0 ? "{}" : spec.slice(eq + 1);
  if (!name) usage(`--call ${JSON.stringify(spec)} names no tool`);
  let args;
  try {
    args = JSON.parse(json);
  } catch (err) {
    usage(`--call ${name}: arguments are not JSON: ${err.message}`);
  }
  if (args === null || typeof args !== "object" || Array.isArray(args)) usage(`--call ${name}: arguments must be a JSON object`);
  return { name, args };
});

const headers = {};
for (const h of opts.header) {
  const colon = h.indexOf(":");
  if (colon <= 0) usage(`--header ${JSON.stringify(h)} is not 'Name: value'`);
  headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
}

const sdkVersion = JSON.parse(
  readFileSync(new URL("./node_modules/@modelcontextprotocol/sdk/package.json", import.meta.url), "utf8"),
).version;

const client = new Client({ name: "mcpfunc-ts-client", version: sdkVersion });
const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
const requestOptions = { timeout };

// step records which step failed, for the error message.
let step = "connect";
try {
  await client.connect(transport, requestOptions);
  const summary = {
    client: { name: "mcpfunc-ts-client", sdk: `@modelcontextprotocol/sdk@${sdkVersion}`, node: process.version },
    server: client.getServerVersion(),
    protocolVersion: transport.protocolVersion,
    capabilities: client.getServerCapabilities(),
    tools: [],
    calls: [],
  };

  step = "tools/list";
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {}, requestOptions);
    for (const t of page.tools) {
      summary.tools.push({ name: t.name, title: t.title, hasOutputSchema: t.outputSchema !== undefined });
    }
    cursor = page.nextCursor;
  } while (cursor);

  for (const c of calls) {
    step = `tools/call ${c.name}`;
    const res = await client.callTool({ name: c.name, arguments: c.args }, undefined, requestOptions);
    const text = (res.content ?? [])
      .filter((item) => item.type === "text")
      .map((item) => item.text)
      .join("\n");
    summary.calls.push({
      tool: c.name,
      arguments: c.args,
      isError: res.isError === true,
      text,
      contentTypes: (res.content ?? []).map((item) => item.type),
      structuredContent: res.structuredContent,
    });
  }

  step = "close";
  await client.close();
  process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
} catch (err) {
  const cause = err?.cause ? ` (cause: ${err.cause?.message ?? err.cause})` : "";
  process.stderr.write(`ts-client: ${step} against ${url}: ${err?.message ?? err}${cause}\n`);
  await client.close().catch(() => {});
  process.exit(1);
}
