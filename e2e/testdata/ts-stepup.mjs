#!/usr/bin/env node
// Step-up authorization with the official TypeScript SDK client
// (@modelcontextprotocol/sdk, pinned in ../../clients), run by
// e2e/auth_test.go against a server in MCP_AUTH=entra mode and the fake
// Entra of shared/auth/authtest, set to grant fewer scopes than asked the
// first time.
//
// The client signs in with the authorization code flow (PKCE): the
// provider's redirectToAuthorization follows the authorization URL itself
// (the fake approves at once and redirects with a code), and the script
// hands the code to transport.finishAuth, as an app does after the browser
// comes back. When the server answers 403 with
// WWW-Authenticate: Bearer error="insufficient_scope", scope="…", the SDK
// starts a new authorization for those scopes; the script completes it the
// same way and connects again. The provider's validateResourceURL returns
// undefined, so that the SDK sends no RFC 8707 resource parameter, which
// Entra refuses next to the API's scopes (AADSTS9010010; see
// ts-oauth.mjs). It then lists the tools and prints a JSON
// summary on stdout: the authorization requests' scopes, each HTTP answer's
// status and challenge from the MCP endpoint, and the tools.
//
// It runs with the clients folder as the working directory and imports the
// SDK from its node_modules, since this file lives elsewhere.
//
//	node ts-stepup.mjs --url http://127.0.0.1:7071/mcp --client-id <id>

import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const sdk = (p) => import(pathToFileURL(join(process.cwd(), "node_modules/@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { UnauthorizedError } = await sdk("client/auth.js");

const { values: opts } = parseArgs({
  options: { url: { type: "string" }, "client-id": { type: "string" } },
  strict: true,
});
if (!opts.url || !opts["client-id"]) {
  process.stderr.write("usage: node ts-stepup.mjs --url <mcp url> --client-id <id>\n");
  process.exit(2);
}
const serverURL = new URL(opts.url);
const redirectUrl = "http://127.0.0.1:1/callback"; // never opened: the code is read from the redirect

const summary = { authorizations: [], mcpResponses: [], tools: [], steps: [] };
let pendingCode;
let clientInfo = { client_id: opts["client-id"] };
let tokens;
let verifier;

const provider = {
  get redirectUrl() {
    return redirectUrl;
  },
  get clientMetadata() {
    return { client_name: "ts-stepup", redirect_uris: [redirectUrl], grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "none" };
  },
  clientInformation: () => clientInfo,
  saveClientInformation: (info) => {
    clientInfo = info;
  },
  tokens: () => tokens,
  saveTokens: (t) => {
    tokens = t;
  },
  saveCodeVerifier: (v) => {
    verifier = v;
  },
  codeVerifier: () => verifier,
  validateResourceURL: async () => undefined,
  // The "browser": follow the authorization URL and keep the code.
  redirectToAuthorization: async (url) => {
    summary.authorizations.push(url.searchParams.get("scope"));
    const res = await fetch(url, { redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status !== 302 || !location) throw new Error(`authorization endpoint answered ${res.status}, not a redirect`);
    pendingCode = new URL(location).searchParams.get("code");
  },
};

// Records what the MCP endpoint answers (not the authorization server).
const recordingFetch = async (input, init) => {
  const res = await fetch(input, init);
  const u = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
  if (u.pathname === serverURL.pathname) {
    summary.mcpResponses.push({ status: res.status, challenge: res.headers.get("www-authenticate") });
  }
  return res;
};

let client;
for (let attempt = 1; ; attempt++) {
  const transport = new StreamableHTTPClientTransport(serverURL, { authProvider: provider, fetch: recordingFetch });
  client = new Client({ name: "ts-stepup", version: "0.0.0" });
  try {
    await client.connect(transport);
    summary.steps.push(`attempt ${attempt}: connected`);
    break;
  } catch (err) {
    if (!(err instanceof UnauthorizedError) || !pendingCode || attempt >= 4) {
      summary.steps.push(`attempt ${attempt}: ${err?.constructor?.name}: ${err?.message}`);
      process.stdout.write(JSON.stringify(summary) + "\n");
      process.exit(1);
    }
    summary.steps.push(`attempt ${attempt}: authorization needed`);
    const code = pendingCode;
    pendingCode = undefined;
    await transport.finishAuth(code);
  }
}
const { tools } = await client.listTools();
summary.tools = tools.map((t) => t.name);
await client.close();
process.stdout.write(JSON.stringify(summary) + "\n");
