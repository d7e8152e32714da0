// A virtual network with a subnet for the storage private endpoints and one
// delegated subnet per Function app (Flex Consumption integrates through a
// subnet delegated to Microsoft.App/environments), and the private DNS zone
// for blob endpoints, linked to the network. Every server's storage account
// gets its private endpoint from app/server.bicep.
param name string
param location string
param tags object = {}
@description('How many app subnets to create: one per server.')
@minValue(1)
@maxValue(250)
param appSubnetCount int

var privateEndpointSubnetName = 'private-endpoints'

// A for-expression may only be the whole value of a declaration or of an
// object property (Bicep BCP138), so the app subnets are built here and
// joined to the endpoint subnet below.
var appSubnets = [
  for i in range(0, appSubnetCount): {
    name: 'app-${i}'
    addressPrefix: '10.0.${i + 2}.0/24'
    privateEndpointNetworkPolicies: 'Disabled'
    privateLinkServiceNetworkPolicies: 'Enabled'
    delegation: 'Microsoft.App/environments'
  }
]
var endpointSubnets = [
  {
    name: privateEndpointSubnetName
    addressPrefix: '10.0.1.0/24'
    privateEndpointNetworkPolicies: 'Disabled'
    privateLinkServiceNetworkPolicies: 'Enabled'
  }
]

module network 'br/public:avm/res/network/virtual-network:0.6.1' = {
  name: 'vnet-deployment'
  params: {
    name: name
    location: location
    tags: tags
    addressPrefixes: ['10.0.0.0/16']
    subnets: concat(endpointSubnets, appSubnets)
  }
}

module blobDnsZone 'br/public:avm/res/network/private-dns-zone:0.7.1' = {
  name: 'blob-private-dns-zone'
  params: {
    name: 'privatelink.blob.${environment().suffixes.storage}'
    location: 'global'
    tags: tags
    virtualNetworkLinks: [
      {
        name: '${name}-blob-link'
        virtualNetworkResourceId: network.outputs.resourceId
        registrationEnabled: false
        location: 'global'
        tags: tags
      }
    ]
  }
}

output name string = network.outputs.name
output privateEndpointSubnetId string = '${network.outputs.resourceId}/subnets/${privateEndpointSubnetName}'
output appSubnetIds array = [for i in range(0, appSubnetCount): '${network.outputs.resourceId}/subnets/app-${i}']
output blobDnsZoneId string = blobDnsZone.outputs.resourceId
