// A virtual network with a subnet for the storage private endpoint and one
// delegated subnet per Function app (Flex Consumption integrates through a
// subnet delegated to Microsoft.App/environments).
param name string
param location string
param tags object = {}
@description('How many app subnets to create: one per server.')
@minValue(1)
@maxValue(250)
param appSubnetCount int

var privateEndpointSubnetName = 'private-endpoints'

module network 'br/public:avm/res/network/virtual-network:0.6.1' = {
  name: 'vnet-deployment'
  params: {
    name: name
    location: location
    tags: tags
    addressPrefixes: ['10.0.0.0/16']
    subnets: concat(
      [
        {
          name: privateEndpointSubnetName
          addressPrefix: '10.0.1.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
        }
      ],
      [
        for i in range(0, appSubnetCount): {
          name: 'app-${i}'
          addressPrefix: '10.0.${i + 2}.0/24'
          privateEndpointNetworkPolicies: 'Disabled'
          privateLinkServiceNetworkPolicies: 'Enabled'
          delegation: 'Microsoft.App/environments'
        }
      ]
    )
  }
}

output name string = network.outputs.name
output privateEndpointSubnetName string = privateEndpointSubnetName
output appSubnetIds array = [for i in range(0, appSubnetCount): '${network.outputs.resourceId}/subnets/app-${i}']
