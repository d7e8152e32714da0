#!/usr/bin/env node
// Sign-in through Microsoft Entra ID with the official TypeScript SDK client
// (@modelcontextprotocol/sdk, pinned in ../../clients), run by
// e2e/oauth_test.go and e2e/auth_test.go (step-up) against a server in
// MCP_AUTH=entra mode and the fake Entra of shared/auth/authtest (Entra,
// with WithOAuth).
//
// The client is a pre-registered public client (no Dynamic Client
// Registration: Entra has none), given by --client-id, with a loopback
// redirect URI. Its provider's "browser" follows the authorization URL
// itself and reads the code (or the error) from the redirect; the script
// hands the code to transport.finishAuth, as an app does when the browser
// comes back, and connects again. When the server answers 403 with
// WWW-Authenticate: Bearer error="insufficient_scope", scope="…", the SDK
// starts a new authorization for those scopes (step-up), completed the same
// way. Then it lists the tools and, with --call, calls one.
//
// --no-resource makes the provider's validateResourceURL return undefined,
// so that the SDK sends no RFC 8707 resource parameter, which Entra refuses
// next to a scope of another resource (AADSTS9010010). Without it the SDK
// sends the protected resource metadata's resource.
//
// It prints a JSON summary on stdout: what each authorization request asked
// for (scope, resource), each authorization error, each answer of the MCP
// endpoint (status and WWW-Authenticate), the tools and the call's text;
// never a code or a token.
//
// It runs with the clients folder as the working directory and imports the
// SDK from its node_modules, since this file lives elsewhere.
//
//	node ts-oauth.mjs --url http://127.0.0.1:7071/mcp --client-id <id> --redirect http://127.0.0.1:<port>/callback [--no-resource] [--call '<tool>=<json>']

import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const sdk = (p) => import(pathToFileURL(join(process.cwd(), "node_modules/@modelcontextprotocol/sdk/dist/esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");
const { UnauthorizedError } = await sdk("client/auth.js");

const { values: opts } = parseArgs({
  options: {
    url: { type: "string" },
    "client-id": { type: "string" },
    redirect: { type: "string" },
    "no-resource": { type: "boolean", default: false },
    call: { type: "string" },
  },
  strict: true,
});
if (!opts.url || !opts["client-id"] || !opts.redirect) {
  process.stderr.write("usage: node ts-oauth.mjs --url <mcp url> --client-id <id> --redirect <loopback redirect URI> [--no-resource] [--call '<tool>=<json>']\n");
  process.exit(2);
}
const serverURL = new URL(opts.url);
let call;
if (opts.call) {
  const eq = opts.call.indexOf("=");
  call = { name: eq < 0 ? opts.call : opts.call.slice(0, eq), arguments: JSON.parse(eq < 0 ? "{}" : opts.call.slice(eq + 1)) };
}

const summary = { authorizations: [], authorizationErrors: [], mcpResponses: [], tools: [], callText: "", steps: [] };
let code;
let tokens;
let verifier;

const provider = {
  redirectUrl: opts.redirect,
  clientMetadata: { client_name: "ts-oauth", redirect_uris: [opts.redirect], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" },
  clientInformation: () => ({ client_id: opts["client-id"] }),
  tokens: () => tokens,
  saveTokens: (t) => {
    tokens = t;
  },
  saveCodeVerifier: (v) => {
    verifier = v;
  },
  codeVerifier: () => verifier,
  redirectToAuthorization: async (url) => {
    summary.authorizations.push({ scope: url.searchParams.get("scope"), resource: url.searchParams.get("resource") });
    const res = await fetch(url, { redirect: "manual" });
    const location = res.headers.get("location");
    if (res.status !== 302 || !location) {
      summary.authorizationErrors.push({ error: `authorization endpoint answered ${res.status}`, description: (await res.text()).slice(0, 300) });
      return;
    }
    const back = new URL(location);
    if (back.searchParams.has("error")) {
      summary.authorizationErrors.push({ error: back.searchParams.get("error"), description: back.searchParams.get("error_description") });
      return;
    }
    code = back.searchParams.get("code");
  },
};
if (opts["no-resource"]) provider.validateResourceURL = async () => undefined;

// Records what the MCP endpoint answers (not the authorization server).
const recordingFetch = async (input, init) => {
  const res = await fetch(input, init);
  const u = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
  if (u.pathname === serverURL.pathname) {
    summary.mcpResponses.push({ status: res.status, challenge: res.headers.get("www-authenticate") });
  }
  return res;
};

const done = (status) => {
  process.stdout.write(JSON.stringify(summary) + "\n");
  process.exit(status);
};

let client;
for (let attempt = 1; ; attempt++) {
  const transport = new StreamableHTTPClientTransport(serverURL, { authProvider: provider, fetch: recordingFetch });
  client = new Client({ name: "ts-oauth", version: "0.0.0" });
  try {
    await client.connect(transport);
    summary.steps.push(`attempt ${attempt}: connected`);
    break;
  } catch (err) {
    if (!(err instanceof UnauthorizedError) || !code || attempt >= 4) {
      summary.steps.push(`attempt ${attempt}: ${err?.constructor?.name}: ${err?.message}`);
      done(1);
    }
    summary.steps.push(`attempt ${attempt}: signed in`);
    const c = code;
    code = undefined;
    try {
      await transport.finishAuth(c);
    } catch (e) {
      summary.steps.push(`finishAuth: ${e?.constructor?.name}: ${e?.message}`);
      done(1);
    }
  }
}
const { tools } = await client.listTools();
summary.tools = tools.map((t) => t.name);
if (call) {
  const res = await client.callTool(call);
  summary.callText = (res.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n").slice(0, 2000);
  summary.callIsError = !!res.isError;
}
await client.close();
done(0);
