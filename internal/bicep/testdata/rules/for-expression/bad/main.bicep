// Each line marked `want: <rule>` must be reported, and nothing else.
param count int = 2
param items array = [for i in range(0, 2): i] // want: for-expression

var endpointSubnet = {
  name: 'private-endpoints'
}

// The original vnet.bicep: a loop inside concat()'s arguments.
module network 'br/public:avm/res/network/virtual-network:0.6.1' = {
  name: 'vnet-deployment'
  params: {
    name: 'vnet'
    subnets: concat(
      [
        endpointSubnet
      ],
      [ // want: for-expression
        for i in range(0, count): {
          name: 'app-${i}'
        }
      ]
    )
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'stmcp'
  location: 'westus'
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // A ternary branch.
    networkAcls: count > 1 ? { ipRules: [for i in range(0, count): { value: '10.0.0.${i}' }] } : {} // want: for-expression
    // An array element.
    encryption: {
      keys: [
        [for i in range(0, count): i] // want: for-expression
      ]
    }
    // A property loop inside another (BCP142).
    cors: {
      rules: [
        for i in range(0, count): {
          allowedOrigins: [for j in range(0, i): 'https://${j}.example.com'] // want: for-expression
        }
      ]
    }
  }
}

// In a variable or output only the whole value may be a loop.
var nested = {
  names: [for i in range(0, count): 'n${i}'] // want: for-expression
}
var operand = length([for i in range(0, count): i]) + 1 // want: for-expression
output parenthesized array = ([for i in range(0, count): i]) // want: for-expression
output grid array = [for i in range(0, count): [for j in range(0, count): j]] // want: for-expression
