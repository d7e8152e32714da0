// Data-plane roles of one server: its managed identity owns the blobs of
// that server's own storage account (its deployment package and the
// Functions host's storage) and publishes metrics to the shared Application
// Insights; optionally the principal running azd may read and write the same
// blobs, for debugging. No identity gets a role on another server's storage.
param storageAccountName string
param appInsightsName string
param managedIdentityPrincipalId string
@description('Object id of the principal running azd, for debugging. Optional.')
param deployerPrincipalId string = ''
@description('Type of the principal running azd: azd passes AZURE_PRINCIPAL_TYPE (User, or ServicePrincipal under `azd auth login --client-id`).')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

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

resource metricsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, managedIdentityPrincipalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: managedIdentityPrincipalId
    principalType: identityPrincipal[0].type
  }
}
