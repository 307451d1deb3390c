from fastloss._cli import main\n\nmain()
