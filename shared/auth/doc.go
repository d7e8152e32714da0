// Package auth protects the /mcp endpoint of the MCP servers in this
// repository and reads the caller's token in their tools.
//
// # Protecting /mcp
//
// [ProtectFromEnv] ([ConfigFromEnv], then [Protect]) decides, from one
// setting (MCP_AUTH), how a server's /mcp endpoint is protected, and
// returns the [Protection] to install: a middleware for the MCP handler
// and, in entra mode, the protected resource metadata handler. The modes
// ([Mode]):
//
//   - easyauth: behind App Service / Functions authentication ("Easy
//     Auth"), the bearer token it forwards is verified again in the process
//     and the X-MS-CLIENT-PRINCIPAL header must name the token's subject, so
//     a request that did not come through Easy Auth, or whose headers were
//     forged, is refused before a tool can use its token;
//   - entra: Microsoft Entra ID tokens are verified in the process (for
//     hosts without Easy Auth), with the RFC 6750 challenges and the
//     protected resource metadata MCP clients need to sign in;
//   - key: the Functions host's keys guard the app (host.json
//     customHandler.http.DefaultAuthorizationLevel "function"; clients send
//     x-functions-key), and the process trusts the host's check and does
//     not authenticate callers itself; on Azure it refuses to start when
//     the host would let anonymous requests through;
//   - none: no authentication, for local development only.
//
// In both verifying modes a tool handler finds the verified token in
// req.Extra.TokenInfo, and only such a token may be used on the caller's
// behalf. [AppOnly] tells whether that token is an application's own
// (client credentials, admitted by an app role of MCP_AUTH_ROLES) rather
// than a signed-in user's; such a token cannot be exchanged On-Behalf-Of.
// In key and none modes there is no verified token.
//
// # The caller's token in a tool
//
// [BearerToken] extracts the caller's access token from an Authorization
// header; in a tool handler the header comes from [RequestHeader], which is
// nil-safe because req.Extra is nil over in-memory and stdio transports. To
// exchange that token for a token to a downstream API (On-Behalf-Of), see
// the package shared/auth/obo, a package of its own so that servers that
// do not need it do not link MSAL and azidentity.
//
// # Environment variables
//
// Authorization mode ([ConfigFromEnv]):
//
//   - MCP_AUTH: "easyauth", "entra", "key" or "none". When unset, the mode is
//     "easyauth" if WEBSITE_AUTH_ENABLED is "True"; otherwise, on Azure
//     (WEBSITE_SITE_NAME set), the server refuses to start, so no server is
//     anonymous on Azure by accident; outside Azure it is "none", logged as
//     information at startup. local.settings.json says "none" explicitly.
//   - WEBSITE_AUTH_ENABLED: set to "True" by App Service when Easy Auth is
//     on. In easyauth mode on Azure anything else stops the server (Easy
//     Auth is not in front, so its headers could be forged).
//   - MCP_REQUIRE_EASYAUTH_ENV (easyauth mode, optional): "on" (default) or
//     "off". "off" skips the WEBSITE_AUTH_ENABLED check above. Set "off"
//     only if a deployed app with authentication on refuses to start
//     because the platform does not set WEBSITE_AUTH_ENABLED. [UNCERTAIN:
//     whether Flex Consumption sets it; to check, deploy with Easy Auth on
//     and read the variable in the running app (Kudu's environment page,
//     or log it at startup).] The token and principal checks apply either
//     way.
//   - WEBSITE_SITE_NAME: set by App Service / Functions on Azure: the sign
//     that the server runs on Azure.
//   - AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel
//     (key mode, on Azure): the app setting that overrides host.json's
//     customHandler.http.DefaultAuthorizationLevel for the Functions host
//     (anonymous, function or admin). Key mode reads the host's effective
//     level from it when set, else from host.json in
//     FUNCTIONS_APP_ROOT_PATH (set by the host for the handler; the working
//     directory when unset), else takes the host's default, function; it
//     refuses to start when the level is anonymous, and also when host.json
//     says anonymous while the app setting says function, since the
//     override is not confirmed (below) and /mcp could be open. [UNCERTAIN: that this
//     app setting overrides the customHandler section on Flex Consumption;
//     to check, on an app whose host.json says "function", set it to
//     anonymous and call /mcp without a key: 401 from the host means it is
//     ignored.]
//   - MCP_REQUIRE_HOST_KEYS (key mode, optional): "on" (default) or "off".
//     "off" skips the authorization level check above. Set "off" only if
//     the host does require keys and the check refuses to start anyway
//     (the app setting override not behaving as documented, for example).
//     Outside Azure the check does not run: the local host emulation of
//     mage dev requires its own key.
//   - WEBSITE_AUTH_CLIENT_ID (easyauth mode, required unless
//     MCP_AUTH_AUDIENCES is set): the app registration's client ID, set by
//     the platform; the audience of v2.0 access tokens.
//   - WEBSITE_AUTH_AAD_ALLOWED_TENANTS (easyauth mode, required unless
//     MCP_AUTH_TENANT_IDS is set): the tenants whose tokens are accepted.
//   - WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES (easyauth mode, optional): the
//     scopes Easy Auth advertises; the Application ID URIs in them (such as
//     api://app of api://app/user_impersonation) are accepted audiences too.
//   - MCP_AUTH_TENANT_IDS (entra mode, required; easyauth mode, optional in
//     place of WEBSITE_AUTH_AAD_ALLOWED_TENANTS): comma- or space-separated
//     tenant IDs (GUIDs) whose tokens are accepted.
//   - MCP_AUTH_AUDIENCES (entra mode, required; easyauth mode, optional,
//     added to the audiences above): comma- or space-separated accepted
//     token audiences, typically the app's client ID and its Application ID
//     URI (api://…).
//   - MCP_AUTH_SCOPES (entra mode: this or MCP_AUTH_ROLES is required;
//     easyauth mode: optional): comma- or space-separated scopes every
//     delegated (user) token must carry, such as
//     api://<app>/user_impersonation. They are also advertised in the
//     protected resource metadata and in the WWW-Authenticate challenge; a
//     token without them gets 403 with error="insufficient_scope" (RFC 6750
//     §3.1), on which MCP clients ask for a token with these scopes.
//   - MCP_AUTH_ROLES (entra mode: this or MCP_AUTH_SCOPES is required;
//     easyauth mode: optional, and then applied the same way): comma- or
//     space-separated app roles (the roles claim) that admit a token, such
//     as MCP.Invoke granted to a managed identity or an agent's identity.
//     App-only tokens (idtyp "app", or no scp) are accepted only with one
//     of these roles,
//     and never when it is unset (unless neither this nor MCP_AUTH_SCOPES
//     is set in easyauth mode, where Easy Auth's own policy decides); when
//     MCP_AUTH_SCOPES is unset, delegated tokens need one of them too.
//   - MCP_AUTH_ALLOWED_APPLICATIONS (optional, entra and easyauth modes):
//     comma- or space-separated client IDs of the applications allowed to
//     call the server (the token's azp claim, appid in v1.0 tokens), like
//     Easy Auth's allowedApplications. Unset: any application.
//   - MCP_PUBLIC_URL (entra mode; easyauth mode, optional): the public base
//     URL of the server, such as https://app.azurewebsites.net or
//     http://localhost:7071. The protected resource is this URL + "/mcp",
//     and the challenges name its /.well-known/oauth-protected-resource.
//     Defaults to https://$WEBSITE_HOSTNAME when that is set.
//   - AZURE_AUTHORITY_HOST (optional, all modes): the Entra authority host,
//     default https://login.microsoftonline.com; for sovereign clouds and
//     tests. One parser reads it for the token verifier and for
//     on-behalf-of (shared/auth/obo): an https URL, or an http URL on a
//     loopback host (a fake in tests). On-behalf-of, when configured, also
//     needs https (MSAL refuses http).
//
// Nothing in this package logs, except [Protection.LogNotice] when a server
// calls it, and no error message contains token material.
package auth
