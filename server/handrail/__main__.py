from handrail.cli.entry import main

raise SystemExit(main())
