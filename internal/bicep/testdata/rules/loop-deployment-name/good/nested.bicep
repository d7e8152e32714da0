param serverName string

module endpoint 'br/public:avm/res/network/private-endpoint:0.11.0' = {
  name: 'pe-blob-${serverName}'
  params: {
    name: 'pe-${serverName}'
  }
}
