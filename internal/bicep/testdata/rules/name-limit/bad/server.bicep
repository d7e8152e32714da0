param serverName string
param environmentName string

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity-${serverName}'
  params: {
    name: 'id-${environmentName}-${environmentName}' // want: name-limit
  }
}

// An AVM module's outputs.name is its params.name.
module endpoint 'br/public:avm/res/network/private-endpoint:0.11.0' = {
  name: 'pe-${serverName}'
  params: {
    name: 'pe-${identity.outputs.name}' // want: name-limit
  }
}

module entra 'entra.bicep' = {
  name: 'entra-${serverName}'
  params: {
    uniqueName: '${environmentName}-${environmentName}'
  }
}
