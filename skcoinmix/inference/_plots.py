def plot_profile():
    pass


def plot_information_criteria():
    pass
