// The grammar predates `extension`: Parse blanks the line and keeps lines.
extension microsoftGraphV1

@description('Name of it.')
@maxLength(10)
param name string = 'x'

var greeting = 'it\'s ${name} \${literal}'

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: name
  displayName: greeting
}

resource site 'Microsoft.Web/sites@2023-12-01' existing = {
  name: name
}

module loop 'app/x.bicep' = [
  for (s, i) in [1, 2]: if (s > 1) {
    name: 'loop-${i}'
    params: {
      n: s
    }
  }
]
