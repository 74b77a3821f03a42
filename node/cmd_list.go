package node

func registerLists(t table) {}
