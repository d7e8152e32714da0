module example.com/fixedport

go 1.26.0
