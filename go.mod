module github.com/aethertensor/aether

go 1.26.8
