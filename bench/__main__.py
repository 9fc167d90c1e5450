import sys

if "--scale" in sys.argv[1:]:
    from bench.scale import main as scale

    scale([a for a in sys.argv[1:] if a != "--scale"])
else:
    from bench.run import main

    main()
