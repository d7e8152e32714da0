// Data-plane roles of the shared managed identity (and, optionally, of the
// developer running azd): blob access for deployment packages and the host's
// storage, metrics publishing to Application Insights.
param storageAccountName string
param appInsightsName string
param managedIdentityPrincipalId string
@description('Object id of the developer, for debugging. Optional.')
param userPrincipalId string = ''

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

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
          type: 'User'
        }
      ]
)

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
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

resource metricsRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for p in principals: {
    name: guid(appInsights.id, p.id, monitoringMetricsPublisher)
    scope: appInsights
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
      principalId: p.id
      principalType: p.type
    }
  }
]
