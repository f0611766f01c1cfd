from handrail.cli.main import main

raise SystemExit(main())
