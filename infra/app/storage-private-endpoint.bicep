// A private endpoint for the storage account's blob service, with its
// private DNS zone linked to the virtual network.
param virtualNetworkName string
param subnetName string
param storageAccountName string
param location string
param tags object = {}

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' existing = {
  name: virtualNetworkName
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

module blobDnsZone 'br/public:avm/res/network/private-dns-zone:0.7.1' = {
  name: 'blob-private-dns-zone'
  params: {
    name: 'privatelink.blob.${environment().suffixes.storage}'
    location: 'global'
    tags: tags
    virtualNetworkLinks: [
      {
        name: '${storageAccountName}-blob-link'
        virtualNetworkResourceId: vnet.id
        registrationEnabled: false
        location: 'global'
        tags: tags
      }
    ]
  }
}

module blobEndpoint 'br/public:avm/res/network/private-endpoint:0.11.0' = {
  name: 'blob-private-endpoint'
  params: {
    name: 'pe-blob-${storageAccountName}'
    location: location
    tags: tags
    subnetResourceId: '${vnet.id}/subnets/${subnetName}'
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
          privateDnsZoneResourceId: blobDnsZone.outputs.resourceId
        }
      ]
    }
  }
}
