param ok string

var a = {
  b: 1

output c string = 'x'
