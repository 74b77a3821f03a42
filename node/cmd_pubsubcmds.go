package node

func registerPubsub(t table) {}
