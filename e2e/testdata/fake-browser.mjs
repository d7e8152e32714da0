#!/usr/bin/env node
// The "browser" e2e/oauth_test.go gives mcp-remote: mcp-remote opens the
// authorization URL with the open package, which runs xdg-open, which runs
// $BROWSER with the URL. This script then does what a browser does when the
// (fake) authorization server approves at once: it GETs the URL and follows
// the redirects to mcp-remote's callback on localhost.
//
// It appends one JSON line to $FAKE_BROWSER_LOG per URL: the authorization
// request's parameters that say how the client asked (client_id, scope,
// resource, redirect_uri, prompt, code_challenge_method), the callback's
// status, and whether the redirect carried a code or an error (the error and
// its description, never the code).
//
//	node fake-browser.mjs <authorization URL>

import { appendFileSync } from "node:fs";

const target = new URL(process.argv[2]);
const entry = { asked: {}, callbackStatus: 0, callbackPath: "", gotCode: false, error: "", errorDescription: "" };
for (const k of ["client_id", "scope", "resource", "redirect_uri", "prompt", "code_challenge_method"]) {
  if (target.searchParams.has(k)) entry.asked[k] = target.searchParams.get(k);
}
try {
  // Follow the authorization server's redirect by hand, to read it.
  const res = await fetch(target, { redirect: "manual" });
  const location = res.headers.get("location");
  if (res.status !== 302 || !location) {
    entry.error = `authorization endpoint answered ${res.status}, not a redirect`;
    entry.errorDescription = (await res.text()).slice(0, 500);
  } else {
    const back = new URL(location);
    entry.gotCode = back.searchParams.has("code");
    entry.error = back.searchParams.get("error") ?? "";
    entry.errorDescription = back.searchParams.get("error_description") ?? "";
    entry.callbackPath = back.pathname;
    // mcp-remote opens the browser before its callback server listens:
    // retry a refused connection for a few seconds, as a user would reload.
    for (let i = 0; ; i++) {
      try {
        entry.callbackStatus = (await fetch(back)).status;
        break;
      } catch (err) {
        if (i >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
} catch (err) {
  entry.error = `fake browser: ${err?.message ?? err}${err?.cause ? ` (${err.cause.message ?? err.cause})` : ""}`;
}
appendFileSync(process.env.FAKE_BROWSER_LOG, JSON.stringify(entry) + "\n");
