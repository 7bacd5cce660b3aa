from syncfw.cli import main

main()
