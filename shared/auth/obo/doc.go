// Package obo exchanges the token of an MCP server's caller for a token to
// a downstream API such as Microsoft Graph, with the OAuth 2.0
// On-Behalf-Of flow: a managed identity as the app registration's federated
// credential on Azure, or a client secret or certificate locally.
//
// [ConfigFromEnv] reads the settings, [New] builds the [Exchanger], and
// [Exchanger.Token] exchanges one caller's token. Failures that a user or
// an administrator can act on come back as an [*Error] of some [Kind], whose
// [Error.UserMessage] says what to do. It is a package of its own, apart
// from shared/auth, so that a server that only protects its endpoint
// (auth.ProtectFromEnv) does not link MSAL and azidentity.
//
// Only pass it a token that the MCP endpoint verified (auth's easyauth or
// entra mode; the tool handler finds it in req.Extra.TokenInfo): the
// exchange presents the caller's token with the server's own credential.
//
// # Environment variables
//
// Azure mode (Easy Auth with a user-assigned managed identity as the app
// registration's federated credential):
//
//   - OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: client ID of the user-assigned
//     managed identity. Setting it selects Azure mode.
//   - WEBSITE_AUTH_CLIENT_ID: client ID of the app registration.
//   - WEBSITE_AUTH_AAD_ALLOWED_TENANTS: the tenant; if it lists several
//     (comma-separated), the first is used.
//   - TokenExchangeAudience (optional): audience of the managed-identity
//     token, default api://AzureADTokenExchange.
//
// Local mode (an app registration with its own credential):
//
//   - AZURE_TENANT_ID, AZURE_CLIENT_ID, and AZURE_CLIENT_SECRET or
//     AZURE_CLIENT_CERTIFICATE_PATH (PEM or PKCS#12, with the private key),
//     plus AZURE_CLIENT_CERTIFICATE_PASSWORD if the certificate file is
//     encrypted. The secret wins when both are set.
//
// Both modes also read:
//
//   - WEBSITE_HOSTNAME: the app's public host name, used for the consent
//     link https://$WEBSITE_HOSTNAME/.auth/login/aad?post_login_redirect_uri=/authcomplete.
//     Loopback values (localhost, 127.0.0.1) are ignored.
//   - AZURE_AUTHORITY_HOST (optional): the Entra authority host, default
//     https://login.microsoftonline.com, read by the same parser as
//     shared/auth's token verifier. On-behalf-of also needs https (MSAL
//     refuses http); the value is checked only once the other settings are
//     complete, so it never stops a server whose on-behalf-of is not
//     configured.
//   - WEBSITE_SITE_NAME: when set (on Azure) and no local secret or
//     certificate is, incomplete settings are reported as Azure mode's.
//
// Nothing in this package logs, and no error message contains token
// material: not the caller's token, the client assertion or an issued
// access token.
package obo
