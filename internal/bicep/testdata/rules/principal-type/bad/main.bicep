// Each line marked `want: <rule>` must be reported, and nothing else.
// The original rbac.bicep: the developer's type hard-coded to 'User',
// which fails under `azd auth login --client-id` (a service principal).
param managedIdentityPrincipalId string
param userPrincipalId string = ''
param groupId string = ''

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var principals = concat(
  [
    {
      id: managedIdentityPrincipalId
      type: 'ServicePrincipal'
    }
  ],
  empty(userPrincipalId)
    ? []
    : [
        {
          id: userPrincipalId
          type: 'User' // want: principal-type
        }
      ]
)
var groups = [
  {
    id: groupId
    type: 'Group' // want: principal-type
  }
]
var everyone = concat(principals, groups)

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'stmcp'
}

resource blobRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in everyone: {
    name: guid(storageAccount.id, p.id, storageBlobDataOwner)
    scope: storageAccount
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
      principalId: p.id
      principalType: p.type
    }
  }
]

resource direct 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, userPrincipalId, storageBlobDataOwner)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: userPrincipalId
    principalType: 'User' // want: principal-type
  }
}

// 'ServicePrincipal' is wrong too for the principal running azd.
module rbac 'rbac.bicep' = {
  name: 'rbac'
  params: {
    deployerId: empty(userPrincipalId) ? '' : userPrincipalId
    identityId: managedIdentityPrincipalId
  }
}
