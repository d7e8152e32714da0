module example.com/crashy

go 1.26.0
