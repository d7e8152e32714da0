// Package auth is the authentication layer shared by the MCP servers in this
// repository. It has three parts.
//
// # Caller identity
//
// [BearerToken] extracts the caller's access token from an Authorization
// header; in a tool handler the header comes from [RequestHeader], which is
// nil-safe because req.Extra is nil over in-memory and stdio transports.
// [ParsePrincipal] and [PrincipalFromHeader] decode the X-MS-CLIENT-PRINCIPAL
// header that App Service / Functions authentication ("Easy Auth") adds to
// each authenticated request.
//
// # On-behalf-of
//
// [OBO] exchanges the caller's token for a token to a downstream API such as
// Microsoft Graph, using the OAuth 2.0 on-behalf-of flow with a
// managed-identity federated credential on Azure, or a client secret or
// certificate locally. [OBOConfigFromEnv] reads its settings; failures that
// a user can act on come back as [*OBOError].
//
// # MCP authorization in process
//
// [AuthModeFromEnv] and [Protect] decide, from one setting, how the /mcp
// endpoint is protected: by Easy Auth in front of the app, by a JWT
// [Verifier] for Microsoft Entra ID tokens inside the process (for hosts
// without Easy Auth), or not at all (local development only).
//
// # Environment variables
//
// Authorization mode ([AuthModeFromEnv]):
//
//   - MCP_AUTH: "easyauth", "entra" or "none". When unset, the mode is
//     "easyauth" if WEBSITE_AUTH_ENABLED is "True"; otherwise it is an error,
//     so a server never starts unauthenticated by accident. "none" must
//     always be asked for explicitly (for example in local.settings.json).
//   - WEBSITE_AUTH_ENABLED: set to "True" by App Service when Easy Auth is
//     on. [UNCERTAIN] whether Flex Consumption sets it; if it does not, set
//     MCP_AUTH=easyauth as an app setting.
//   - WEBSITE_SITE_NAME: set by App Service / Functions on Azure; used only
//     to word the error when no mode is configured.
//   - MCP_AUTH_TENANT_IDS (entra mode, required): comma- or space-separated
//     tenant IDs (GUIDs) whose tokens are accepted.
//   - MCP_AUTH_AUDIENCES (entra mode, required): comma- or space-separated
//     accepted token audiences, typically the app's client ID and its
//     Application ID URI (api://…).
//   - MCP_AUTH_SCOPES (entra mode; this or MCP_AUTH_ROLES is required):
//     comma- or space-separated scopes every delegated (user) token must
//     carry, such as api://<app>/user_impersonation.
//     They are also advertised in the protected resource metadata and in
//     the WWW-Authenticate challenge; a token without them gets 403 with
//     error="insufficient_scope" (RFC 6750 §3.1), on which MCP clients ask
//     for a token with these scopes.
//   - MCP_AUTH_ROLES (entra mode; this or MCP_AUTH_SCOPES is required):
//     comma- or space-separated app roles (the roles claim) that admit a
//     token. App-only tokens (no scp) are accepted only with one of these
//     roles, and never when it is unset; when MCP_AUTH_SCOPES is unset,
//     delegated tokens need one of them too.
//   - MCP_AUTH_ALLOWED_APPLICATIONS (optional, entra and easyauth modes):
//     comma- or space-separated client IDs of the applications allowed to
//     call the server (the token's azp claim, appid in v1.0 tokens), like
//     Easy Auth's allowedApplications. Unset: any application.
//   - MCP_PUBLIC_URL (entra mode): the public base URL of the server, such
//     as https://app.azurewebsites.net or http://localhost:7071. The
//     protected resource is this URL + "/mcp". Defaults to
//     https://$WEBSITE_HOSTNAME when that is set.
//   - AZURE_AUTHORITY_HOST (optional, all modes): the Entra authority host,
//     default https://login.microsoftonline.com; for sovereign clouds and
//     tests. One parser ([ParseAuthorityHost]) reads it for the token
//     verifier and for on-behalf-of: an https URL, or an http URL on a
//     loopback host (a fake in tests). On-behalf-of, when configured, also
//     needs https (MSAL refuses http); when it is not configured, the value
//     never stops the server.
//
// On-behalf-of ([OBOConfigFromEnv]), Azure mode (Easy Auth with a
// user-assigned managed identity as the app registration's federated
// credential):
//
//   - OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: client ID of the user-assigned
//     managed identity. Setting it selects Azure mode.
//   - WEBSITE_AUTH_CLIENT_ID: client ID of the app registration.
//   - WEBSITE_AUTH_AAD_ALLOWED_TENANTS: the tenant; if it lists several
//     (comma-separated), the first is used.
//   - TokenExchangeAudience (optional): audience of the managed-identity
//     token, default api://AzureADTokenExchange.
//
// On-behalf-of, local mode (an app registration with its own credential):
//
//   - AZURE_TENANT_ID, AZURE_CLIENT_ID, and AZURE_CLIENT_SECRET or
//     AZURE_CLIENT_CERTIFICATE_PATH (PEM or PKCS#12, with the private key),
//     plus AZURE_CLIENT_CERTIFICATE_PASSWORD if the certificate file is
//     encrypted. The secret wins when both are set.
//
// Both on-behalf-of modes also read:
//
//   - WEBSITE_HOSTNAME: the app's public host name, used for the consent
//     link https://$WEBSITE_HOSTNAME/.auth/login/aad?post_login_redirect_uri=/authcomplete.
//     Loopback values (localhost, 127.0.0.1) are ignored.
//   - AZURE_AUTHORITY_HOST, as above.
//
// Nothing in this package logs, and no error message contains token
// material: not the caller's token, the client assertion or an issued
// access token.
package auth
