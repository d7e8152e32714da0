// Deployed by app.bicep, so once per server as well.
param serverName string

module endpoint 'br/public:avm/res/network/private-endpoint:0.11.0' = {
  name: 'pe-blob' // want: loop-deployment-name
  params: {
    name: 'pe-${serverName}'
  }
}
