// The Entra app registration of one MCP server: the API clients sign in to
// (identifier URI and user_impersonation scope, pre-authorized clients), the
// Easy Auth callback, and a federated credential that lets this server's own
// managed identity act as this app's client secret (for Easy Auth and the
// On-Behalf-Of exchange). Graph's User.Read is requested only by servers
// that call Graph. The app role MCP.Invoke lets applications call the
// server as themselves (app-only tokens, no signed-in user): a managed
// identity, a Foundry project's identity or a daemon is granted it with an
// app role assignment, and its client id must be among the allowed
// applications (APP_CALLER_CLIENT_IDS).
extension microsoftGraphV1

@description('Unique name of the registration (makes deployments idempotent).')
param uniqueName string
param displayName string
param serviceManagementReference string = ''
@description('The Function app\'s host name, for the Easy Auth redirect URI.')
param functionAppHostname string
param preAuthorizedClientIds array = []
param callsGraph bool = false
@description('Principal id of the user-assigned managed identity trusted through a federated credential.')
param managedIdentityPrincipalId string
param tags object = {}

var scopeValue = 'user_impersonation'
var scopeId = guid(uniqueName, 'default-scope', scopeValue)
// The app role app-only callers need; the server accepts app-only tokens
// only with it (MCP_AUTH_ROLES, app/server.bicep). A stable id: the same
// on every deployment, so assignments survive a re-provision.
var invokeRoleValue = 'MCP.Invoke'
var invokeRoleId = guid(uniqueName, 'app-role', invokeRoleValue)
// api://<tenant id>/<name> is a form Entra accepts even in tenants that
// enforce uriAdditionWithoutUniqueTenantIdentifier, which reject
// api://<name>-<hash>.
var identifierUri = 'api://${tenant().tenantId}/${uniqueName}'
var graphAppId = '00000003-0000-0000-c000-000000000000'
var graphUserReadId = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'

resource registration 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  serviceManagementReference: empty(serviceManagementReference) ? null : serviceManagementReference
  signInAudience: 'AzureADMyOrg'
  identifierUris: [identifierUri]
  tags: map(items(tags), t => '${t.key}:${t.value}')
  appRoles: [
    {
      id: invokeRoleId
      value: invokeRoleValue
      allowedMemberTypes: ['Application']
      isEnabled: true
      displayName: 'Invoke ${displayName}'
      description: 'Lets an application (a managed identity, an AI Foundry agent, a daemon) call the MCP server as itself, with no signed-in user.'
    }
  ]
  api: {
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: scopeId
        value: scopeValue
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Access ${displayName} as the signed-in user'
        adminConsentDescription: 'Allow the application to call the MCP server on behalf of the signed-in user.'
        userConsentDisplayName: 'Access ${displayName} as you'
        userConsentDescription: 'Allow the application to call the MCP server on your behalf.'
      }
    ]
    preAuthorizedApplications: [
      for id in preAuthorizedClientIds: {
        appId: id
        delegatedPermissionIds: [scopeId]
      }
    ]
  }
  web: {
    redirectUris: ['https://${functionAppHostname}/.auth/login/aad/callback']
    implicitGrantSettings: {
      enableAccessTokenIssuance: false
      enableIdTokenIssuance: true
    }
  }
  requiredResourceAccess: callsGraph
    ? [
        {
          resourceAppId: graphAppId
          resourceAccess: [
            {
              id: graphUserReadId
              type: 'Scope'
            }
          ]
        }
      ]
    : []
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: registration.appId
  tags: map(items(tags), t => '${t.key}:${t.value}')
}

resource federatedCredential 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${registration.uniqueName}/mcp-function-managed-identity'
  audiences: ['api://AzureADTokenExchange']
  issuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
  subject: managedIdentityPrincipalId
  description: 'Lets the Function app\'s managed identity stand in for a client secret.'
}

output applicationId string = registration.appId
output identifierUri string = identifierUri
output servicePrincipalId string = servicePrincipal.id
output scope string = '${identifierUri}/${scopeValue}'
output appRole string = invokeRoleValue
output appRoleId string = invokeRoleId
