// Every deployment name in a loop depends on the loop or on a parameter:
// nothing here may be reported.
param servers array = [
  {
    name: 'alpha'
  }
]

module apps 'app.bicep' = [
  for (s, i) in servers: {
    name: 'app-${s.name}'
    params: {
      serverName: s.name
    }
  }
]

module indexed 'br/public:avm/res/web/site:0.15.1' = [
  for (s, i) in servers: {
    name: 'site-${i}'
    params: {
      kind: 'functionapp'
      name: 'func-${s.name}'
    }
  }
]

module once 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'plan'
  params: {
    name: 'plan-mcp'
  }
}
