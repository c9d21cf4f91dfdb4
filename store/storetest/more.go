package storetest

func subscribeCases() []testCase   { return nil }
func concurrencyCases() []testCase { return nil }
func lifecycleCases() []testCase   { return nil }
