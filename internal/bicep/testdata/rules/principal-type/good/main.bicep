// The principal running azd gets its type from AZURE_PRINCIPAL_TYPE;
// managed identities are service principals. Nothing here may be reported.
param managedIdentityPrincipalId string
param deployerPrincipalId string = ''
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var identityPrincipal = [
  {
    id: managedIdentityPrincipalId
    type: 'ServicePrincipal'
  }
]
var deployerPrincipal = empty(deployerPrincipalId)
  ? []
  : [
      {
        id: deployerPrincipalId
        type: deployerPrincipalType
      }
    ]
var principals = concat(identityPrincipal, deployerPrincipal)
// An OAuth2 scope's type 'User' is about consent, not a principal.
var scopes = [
  {
    id: guid('scope')
    type: 'User'
    value: 'user_impersonation'
  }
]

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'stmcp'
}

resource blobRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in principals: {
    name: guid(storageAccount.id, p.id, storageBlobDataOwner)
    scope: storageAccount
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
      principalId: p.id
      principalType: p.type
    }
  }
]

resource metricsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, managedIdentityPrincipalId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: managedIdentityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output scopeIds array = [for s in scopes: s.id]
