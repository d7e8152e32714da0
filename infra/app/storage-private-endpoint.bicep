// A private endpoint for one storage account's blob service, registered in
// the blob private DNS zone that app/vnet.bicep links to the network.
@description('Name of the server, to keep deployment names unique in the resource group.')
param serverName string
param storageAccountName string
param subnetId string
param blobDnsZoneId string
param location string
param tags object = {}

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

module blobEndpoint 'br/public:avm/res/network/private-endpoint:0.11.0' = {
  name: 'pe-blob-${serverName}'
  params: {
    name: 'pe-blob-${storageAccountName}'
    location: location
    tags: tags
    subnetResourceId: subnetId
    privateLinkServiceConnections: [
      {
        name: 'blob'
        properties: {
          privateLinkServiceId: storageAccount.id
          groupIds: ['blob']
        }
      }
    ]
    privateDnsZoneGroup: {
      name: 'blob'
      privateDnsZoneGroupConfigs: [
        {
          name: 'blob'
          privateDnsZoneResourceId: blobDnsZoneId
        }
      ]
    }
  }
}
