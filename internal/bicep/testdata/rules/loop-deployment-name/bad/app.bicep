// Deployed once per server by main.bicep's loop.
param serverName string

var suffix = 'mcp'

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity-${suffix}' // want: loop-deployment-name
  params: {
    name: 'id-${serverName}'
  }
}

module named 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'named-${serverName}'
  params: {
    name: 'id2-${serverName}'
  }
}

module nested 'nested.bicep' = {
  name: 'nested-${serverName}'
  params: {
    serverName: serverName
  }
}
