from django.urls import include, path


def boom(request):
    raise RuntimeError("kaboom")


urlpatterns = [path("boom/", boom), path("", include("config.urls"))]
