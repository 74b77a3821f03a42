package node

func registerSets(t table) {}
