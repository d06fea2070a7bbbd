print("docket-cli")
