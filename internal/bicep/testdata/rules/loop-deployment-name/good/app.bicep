param serverName string

var prefix = 'identity-${serverName}'

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: prefix
  params: {
    name: 'id-${serverName}'
  }
}

module nested 'nested.bicep' = {
  name: 'nested-${serverName}'
  params: {
    serverName: serverName
  }
}
