module github.com/credence/credence

go 1.26.8
