app_name = "filter_segments"

urlpatterns: list = []
