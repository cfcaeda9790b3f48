from sonic_deploy.cli.deploy import main

if __name__ == "__main__":
    raise SystemExit(main(["bridge", *__import__("sys").argv[1:]]))
