// Loops where Bicep accepts them: nothing here may be reported.
param count int = 2

var appSubnets = [
  for i in range(0, count): {
    name: 'app-${i}'
  }
]
var endpointSubnets = [
  {
    name: 'private-endpoints'
  }
]

module network 'br/public:avm/res/network/virtual-network:0.6.1' = {
  name: 'vnet-deployment'
  params: {
    name: 'vnet'
    subnets: concat(endpointSubnets, appSubnets)
    // A property loop in a module's params, under an array and an object.
    peerings: [
      {
        remotes: [for i in range(0, count): 'vnet-${i}']
      }
    ]
  }
}

module conditional 'br/public:avm/res/network/virtual-network:0.6.1' = if (count > 1) {
  name: 'conditional'
  params: {
    name: 'vnet2'
    subnets: [for i in range(0, count): { name: 's${i}' }]
  }
}

// A resource loop with a property loop in its body.
resource accounts 'Microsoft.Storage/storageAccounts@2023-05-01' = [
  for i in range(0, count): {
    name: 'st${i}'
    location: 'westus'
    kind: 'StorageV2'
    sku: {
      name: 'Standard_LRS'
    }
    properties: {
      networkAcls: {
        ipRules: [for j in range(0, count): { value: '10.0.${i}.${j}' }]
      }
    }
  }
]

module loop 'br/public:avm/res/network/virtual-network:0.6.1' = [
  for i in range(0, count): if (i > 0) {
    name: 'loop-${i}'
    params: {
      name: 'vnet-${i}'
    }
  }
]

output ids array = [for i in range(0, count): accounts[i].id]
