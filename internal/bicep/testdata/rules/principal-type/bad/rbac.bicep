param deployerId string
param identityId string

var roleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var deployerValue = deployerId
var principals = [
  {
    id: identityId
    type: 'ServicePrincipal'
  }
  {
    id: deployerValue
    type: 'ServicePrincipal' // want: principal-type
  }
]

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'stmcp'
}

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in principals: {
    name: guid(storageAccount.id, p.id, roleId)
    scope: storageAccount
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
      principalId: p.id
      principalType: p.type
    }
  }
]

resource deployerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, deployerId, roleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: deployerId
    principalType: 'ServicePrincipal' // want: principal-type
  }
}

resource identityRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, identityId, roleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: identityId
    principalType: 'ServicePrincipal'
  }
}
