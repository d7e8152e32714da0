// Each line marked `want: <rule>` must be reported, and nothing else.
param servers array = [
  {
    name: 'alpha'
  }
]

module apps 'app.bicep' = [
  for (s, i) in servers: {
    name: 'app' // want: loop-deployment-name
    params: {
      serverName: s.name
    }
  }
]

module unnamed 'br/public:avm/res/web/site:0.15.1' = [ // want: loop-deployment-name
  for s in servers: {
    params: {
      kind: 'functionapp'
      name: 'func-${s.name}'
    }
  }
]
