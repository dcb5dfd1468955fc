app_name = "abha"

urlpatterns = []
