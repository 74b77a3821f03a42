package node

func registerKeys(t table) {}
