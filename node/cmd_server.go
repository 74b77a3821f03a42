package node

func registerServer(t table) {}
